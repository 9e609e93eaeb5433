"""The claim scrubber: data-driven rules that stop a wrong bill before it leaves."""
