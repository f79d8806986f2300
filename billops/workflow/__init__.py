"""The workflow layer (issue 15, docs/workflow.md): exceptions routed to queues as work items,
worked against a service level, money-moving adjustments approved by a second person, all in the
operational store and all through its hash-chained audit trail. The dashboard, the HTTP API and
the CLI call these same functions; none of them writes the warehouse."""
