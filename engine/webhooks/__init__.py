"""Webhooks (D27): what a change reports (`messages`), the endpoints the API manages
(`endpoints`), Standard Webhooks signatures (`signing`), the guarded HTTP client (`http`) and
sending deliveries (`delivery`)."""
