SELECT users.id, users.name
FROM users
WHERE users.age >= ? AND (users.city IN (?, ?) OR users.city IS NULL) AND users.name LIKE ? AND users.born NOT BETWEEN ? AND ?
