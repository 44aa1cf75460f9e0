"""Evidence reports (HTML, signed PDF/A-3b), signed BagIt evidence bundles, and their verification."""
