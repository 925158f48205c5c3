SELECT users.name, orders.amount
FROM users JOIN orders ON users.id = orders.user_id
WHERE orders.status = $1
