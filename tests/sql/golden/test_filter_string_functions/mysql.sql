SELECT users.id
FROM users
WHERE (users.name LIKE concat(replace(replace(replace(%(p0)s, %(replace_1)s, %(replace_2)s), %(replace_3)s, %(replace_4)s), %(replace_5)s, %(replace_6)s), '%%') ESCAPE '/') OR (users.city LIKE concat('%%', replace(replace(replace(%(p1)s, %(replace_7)s, %(replace_8)s), %(replace_9)s, %(replace_10)s), %(replace_11)s, %(replace_12)s), '%%') ESCAPE '/')
