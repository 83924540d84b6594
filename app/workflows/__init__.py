"""State machines (``transitions``), one module per process: registration, declaration, transfer,
info_change, org_change, plan, deregistration. Each declares its states and transitions as data at the
top of its module and writes one ``AuditLog`` row per fired trigger (see ARCHITECTURE.md "Workflows").
The processes arrive with the issues that introduce them (accounts, declarations, certificates)."""
