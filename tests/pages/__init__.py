"""Page tests through the test client, one module per registry."""
