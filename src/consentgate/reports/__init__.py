"""Reports for the people who run a consent programme: consent rates, banner outcomes, GPC share,
requests against their deadlines, the website inventory, and the audit pack (docs/reports.md)."""
