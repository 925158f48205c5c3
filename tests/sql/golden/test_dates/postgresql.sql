SELECT CAST(EXTRACT(year FROM orders.placed) AS INTEGER) AS y, date_trunc('month', orders.placed) AS month, CAST(orders.placed AS DATE) + CAST(%(p0)s::INTEGER AS INTEGER) AS week_later, CAST(orders.placed AS DATE) - CAST(%(p1)s::DATE AS DATE) AS days
FROM orders
