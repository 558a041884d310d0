-- The app's own database and role, beside Temporal's databases on the same server.
CREATE ROLE hook LOGIN PASSWORD 'hook';
CREATE DATABASE hook OWNER hook;
