SELECT orders.user_id, sum(orders.amount) AS total, count(*) AS n, avg(orders.amount) AS mean
FROM orders
WHERE orders.status != $1 GROUP BY orders.user_id
HAVING sum(orders.amount) > $2 ORDER BY sum(orders.amount) DESC
