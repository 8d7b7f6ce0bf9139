-- Written by charla-tests: logs the SASL mechanism of every successful login, at info level,
-- so that the tests can assert that Charla logs in with SCRAM (issue 14).
module:hook("authentication-success", function (event)
	local session = event.session;
	local handler = session.sasl_handler;
	module:log("info", "charla-auth %s %s", tostring(session.username),
		tostring(handler and handler.selected));
end);
