"""Celery tasks of the leads app: thin wrappers that take ids and call one service.

Several features add tasks here; append yours, do not rewrite the file.
"""
