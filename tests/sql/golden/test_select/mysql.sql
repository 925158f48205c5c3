SELECT users.id, users.name AS who, users.age + %(p0)s AS next_age, upper(users.city) AS upper_city
FROM users
