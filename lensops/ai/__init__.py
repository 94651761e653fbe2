"""The lab's analytics: briefings, forecasts, anomalies, insights and LLM chat over the business data.

The analytics modules (anomaly, forecast, insight, briefing) are pure functions over the records
returned by lensops.data.queries; `service` runs them against the database; `llm` talks to an
OpenAI-compatible chat API. Nothing heavy is imported by this package itself.
"""
