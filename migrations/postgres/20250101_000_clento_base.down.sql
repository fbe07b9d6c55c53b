DROP TABLE integration_credentials;
DROP TABLE leads;
DROP TABLE users;
