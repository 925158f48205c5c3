SELECT t_0.id
FROM (SELECT users.id AS id, users.name AS name, users.age AS age, users.city AS city, users.born AS born
FROM users ORDER BY users.id ASC
 LIMIT $1 OFFSET $2) AS t_0
WHERE t_0.age > $3
