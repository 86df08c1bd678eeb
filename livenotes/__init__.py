"""livenotes: conference talk notes with live Python demos, built with MkDocs."""
