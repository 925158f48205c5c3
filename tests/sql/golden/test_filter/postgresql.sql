SELECT users.id, users.name
FROM users
WHERE users.age >= %(p0)s::INTEGER AND (users.city IN (%(p1)s::VARCHAR, %(p2)s::VARCHAR) OR users.city IS NULL) AND users.name LIKE %(p3)s::VARCHAR AND users.born NOT BETWEEN %(p4)s::DATE AND %(p5)s::DATE
