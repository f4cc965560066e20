-- wrk script: MCP tools/call get_quotes for AAPL, in a session, as
-- scripts/bench.sh sets it up; AAPL was fetched once before, so every
-- call is answered from the KV cache (quote:AAPL).  The quote lifetime
-- is raised for the run, so that it stays a hit throughout.

local token = os.getenv("MCP_TOKEN") or ""
local session = os.getenv("MCP_SESSION") or ""
local version = os.getenv("MCP_PROTOCOL_VERSION") or "2025-11-25"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Mcp-Session-Id"] = session
wrk.headers["MCP-Protocol-Version"] = version
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/call",'
           .. '"params":{"name":"get_quotes","arguments":'
           .. '{"symbols":["AAPL"]}}}'
