-- Seats: the operator's limit per user type and tenant; users hold seats while active, invited
-- or suspended. Activity (the last API use) feeds the unused-seat report.
CREATE TABLE seat_limits (
	tenant_id TEXT NOT NULL,
	type TEXT NOT NULL,
	max_seats INTEGER NOT NULL,
	PRIMARY KEY (tenant_id, type)
) WITHOUT ROWID;
CREATE INDEX users_type_status ON users (tenant_id, type, status);
