SELECT users.id
FROM users
WHERE (users.name LIKE replace(replace(replace(?, ?, ?), ?, ?), ?, ?) || '%' ESCAPE '/') OR (users.city LIKE '%' || replace(replace(replace(?, ?, ?), ?, ?), ?, ?) || '%' ESCAPE '/')
