"""The roster import: who is on which team, under which manager, in which region.

A CSV with one row per rep (rep name or email, manager, team, region; flexible
headers) becomes teams, managers and reps, so an imported pipeline lands on real
teams and the reports group by team and region. Admins only: a page, the API and
`python manage.py import_roster FILE [--dry-run]`.

- parse: the header's columns and each row's values, checked within the file (plain Python)
- services: matching to users and teams, and the writes, in one transaction
- selectors: the roster page's reads
- forms, views, apis: the page and the endpoint
"""
