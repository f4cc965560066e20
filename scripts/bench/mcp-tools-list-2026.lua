-- wrk script: MCP tools/list in the stateless revision 2026-07-28, as
-- its clients send it: no session, the protocol version and the client's
-- capabilities in _meta, and the headers that repeat the body.
--
--   MCP_TOKEN=$(build/ttai token) \
--   wrk -t2 -c32 -d5s --latency -s scripts/bench/mcp-tools-list-2026.lua \
--       http://127.0.0.1:8787/mcp

local token = os.getenv("MCP_TOKEN") or ""

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json, text/event-stream"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["MCP-Protocol-Version"] = "2026-07-28"
wrk.headers["Mcp-Method"] = "tools/list"
wrk.body = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":'
    .. '{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    .. '"io.modelcontextprotocol/clientCapabilities":{},'
    .. '"io.modelcontextprotocol/clientInfo":{"name":"bench.sh",'
    .. '"version":"1"}}}}'
