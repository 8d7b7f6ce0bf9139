-- Written by charla-tests: never answers a client's IQ set to its own account with the payload
-- named by `charla_swallow_iq` ("<namespace>:<element>"), as a link that died right after the
-- bind looks to the client.
local payload = module:get_option_string("charla_swallow_iq");
module:hook("iq-set/self/" .. payload, function (event)
	module:log("info", "charla-swallow %s", payload);
	return true;
end, 1000);
