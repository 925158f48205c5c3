SELECT CAST(EXTRACT(year FROM orders.placed) AS INTEGER) AS y, date_trunc('month', orders.placed) AS month, CAST(orders.placed AS DATE) + CAST(%(p0)s AS INTEGER) AS week_later, date_diff('day', CAST(%(p1)s AS DATE), CAST(orders.placed AS DATE)) AS days
FROM orders
