SELECT users.city, sum(orders.amount) AS revenue
FROM (SELECT users.id AS id, users.name AS name, users.city AS city
FROM users
WHERE users.city != $1) AS users JOIN orders ON users.id = orders.user_id GROUP BY users.city ORDER BY sum(orders.amount) DESC
 LIMIT $2
