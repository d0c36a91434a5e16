CREATE TABLE notes (
	id      bigserial PRIMARY KEY,
	title   text NOT NULL UNIQUE,
	body    text NOT NULL,
	created timestamptz NOT NULL DEFAULT now()
);
