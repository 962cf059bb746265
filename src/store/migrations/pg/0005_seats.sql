-- Seats: the operator's limit per user type and tenant; users hold seats while active, invited
-- or suspended. Activity (the last API use) feeds the unused-seat report.
CREATE TABLE seat_limits (
	tenant_id TEXT COLLATE "C" NOT NULL,
	type TEXT COLLATE "C" NOT NULL,
	max_seats BIGINT NOT NULL,
	PRIMARY KEY (tenant_id, type)
);
CREATE INDEX users_type_status ON users (tenant_id, type, status);
