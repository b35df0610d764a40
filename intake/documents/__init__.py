"""Documents (issue #27): photos of passport pages and proofs as they arrive from a phone,
made safe and stored encrypted; the application summary as a PDF."""
