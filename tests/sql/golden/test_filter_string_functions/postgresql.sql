SELECT users.id
FROM users
WHERE (users.name LIKE replace(replace(replace(%(p0)s::VARCHAR, %(replace_1)s::VARCHAR, %(replace_2)s::VARCHAR), %(replace_3)s::VARCHAR, %(replace_4)s::VARCHAR), %(replace_5)s::VARCHAR, %(replace_6)s::VARCHAR) || '%%' ESCAPE '/') OR (users.city LIKE '%%' || replace(replace(replace(%(p1)s::VARCHAR, %(replace_7)s::VARCHAR, %(replace_8)s::VARCHAR), %(replace_9)s::VARCHAR, %(replace_10)s::VARCHAR), %(replace_11)s::VARCHAR, %(replace_12)s::VARCHAR) || '%%' ESCAPE '/')
