"""What kind of change each new version made: sentence alignment (NewsEdits' actions), change kinds, export."""
