"""The JSON API for apps: revocable bearer tokens and articles under the same access
decision as the web page. Described in docs/openapi.yaml; see docs/api-glossary.md."""
