SELECT users.id, users.name
FROM users
WHERE users.age >= $1 AND (users.city IN ($2, $3) OR users.city IS NULL) AND users.name LIKE $4 AND users.born NOT BETWEEN $5 AND $6
