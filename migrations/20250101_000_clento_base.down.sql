-- Children first, so no foreign key ever points at a dropped table.
DROP TABLE integration_credentials;
DROP TABLE leads;
DROP TABLE users;
