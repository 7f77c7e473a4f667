"""Request and response bodies of the HTTP API; their descriptions and examples become /openapi.json."""
