"""Loading files: images and PDF pages, refused with a clear message when unsafe or unreadable."""
