"""The master patient index: finding, linking and merging the records of one person."""
