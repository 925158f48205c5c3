SELECT users.id
FROM users
WHERE (users.name LIKE concat(replace(replace(replace(%s, %s, %s), %s, %s), %s, %s), '%%') ESCAPE '/') OR (users.city LIKE concat('%%', replace(replace(replace(%s, %s, %s), %s, %s), %s, %s), '%%') ESCAPE '/')
