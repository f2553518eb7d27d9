"""Web plumbing both faces share: sessions, htmx rendering, errors, security headers, formatting."""
