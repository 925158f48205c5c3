SELECT users.id, users.name
FROM users
WHERE users.age >= %s AND (users.city IN (%s, %s) OR users.city IS NULL) AND users.name LIKE %s AND users.born NOT BETWEEN %s AND %s
