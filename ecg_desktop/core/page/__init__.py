"""Reading the page: orientation and geometry, the grid and the region, the ink, the layout and scales (one PageReading)."""
