SELECT orders.user_id, sum(orders.amount) AS total, count(*) AS n, avg(orders.amount) AS mean
FROM orders
WHERE orders.status != %(p0)s GROUP BY orders.user_id
HAVING sum(orders.amount) > %(p1)s ORDER BY sum(orders.amount) DESC
