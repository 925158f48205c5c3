SELECT users.id, users.name
FROM users
WHERE users.age >= %(p0)s AND (users.city IN (%(p1)s, %(p2)s) OR users.city IS NULL) AND users.name LIKE %(p3)s AND users.born NOT BETWEEN %(p4)s AND %(p5)s
