"""A real MCP client (the `mcp` Python SDK) talking to `cloudoptima mcp` over stdio.

Usage: mcp_client.py CALLS_JSON BINARY [ARGS...]
CALLS_JSON is a list of [tool, arguments]. Prints JSON: the server's name, the tools it lists
(name and input schema's properties) and, per call, {"is_error": bool, "text": "..."}.
"""
import asyncio
import json
import sys


def field(obj, *names):
    """The first attribute of `obj` that exists (the SDK renamed camelCase fields in 2.x)."""
    for n in names:
        if hasattr(obj, n):
            return getattr(obj, n)
    raise AttributeError(names)

from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client


async def main():
    calls = json.loads(sys.argv[1])
    params = StdioServerParameters(command=sys.argv[2], args=sys.argv[3:])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            tools = await session.list_tools()
            results = []
            for name, arguments in calls:
                r = await session.call_tool(name, arguments)
                results.append({
                    "is_error": bool(field(r, "is_error", "isError")),
                    "text": "\n".join(c.text for c in r.content if getattr(c, "type", "") == "text"),
                })
    print(json.dumps({
        "server": field(init, "server_info", "serverInfo").name,
        "tools": {t.name: sorted((field(t, "input_schema", "inputSchema") or {}).get("properties", {}).keys()) for t in tools.tools},
        "results": results,
    }))


if __name__ == "__main__":
    asyncio.run(main())
