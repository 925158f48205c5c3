SELECT users.city, sum(orders.amount) AS revenue
FROM users JOIN orders ON users.id = orders.user_id
WHERE users.city != ? GROUP BY users.city ORDER BY sum(orders.amount) DESC
 LIMIT ? OFFSET ?
