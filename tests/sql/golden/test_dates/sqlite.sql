SELECT CAST(CAST(STRFTIME('%Y', orders.placed) AS INTEGER) AS INTEGER) AS y, date(orders.placed, ?) AS month, date(orders.placed, printf(?, ?)) AS week_later, CAST(julianday(date(orders.placed)) - julianday(date(?)) AS INTEGER) AS days
FROM orders
