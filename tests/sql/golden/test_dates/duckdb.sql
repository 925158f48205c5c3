SELECT CAST(EXTRACT(year FROM orders.placed) AS INTEGER) AS y, date_trunc('month', orders.placed) AS month, CAST(orders.placed AS DATE) + CAST($1 AS INTEGER) AS week_later, date_diff('day', CAST($2 AS DATE), CAST(orders.placed AS DATE)) AS days
FROM orders
