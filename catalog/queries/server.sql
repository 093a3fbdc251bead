-- Who and where we are. rolsuper is read for current_user (the role whose
-- privileges apply after SET ROLE), not session_user.
SELECT current_setting('server_version_num')::int AS server_version,
       current_database()                         AS database,
       current_user::text                         AS current_user,
       coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = current_user), false) AS superuser
