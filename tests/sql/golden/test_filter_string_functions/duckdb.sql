SELECT users.id
FROM users
WHERE (users.name LIKE replace(replace(replace($1, $2, $3), $4, $5), $6, $7) || '%' ESCAPE '/') OR (users.city LIKE '%' || replace(replace(replace($8, $9, $10), $11, $12), $13, $14) || '%' ESCAPE '/')
