-- wrk script: MCP tools/call get_session_info over Streamable HTTP, as
-- a client in a session sends it: a JSON-RPC POST with the Bearer
-- token, the session id and the protocol version.  scripts/bench.sh
-- makes the session with curl (initialize, then
-- notifications/initialized) and passes it in the environment:
--
--   MCP_TOKEN=$(build/ttai token) MCP_SESSION=<Mcp-Session-Id> \
--   wrk -t2 -c32 -d5s --latency -s scripts/bench/mcp-get-session-info.lua \
--       http://127.0.0.1:8787/mcp

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
           .. '"params":{"name":"get_session_info","arguments":{}}}'
