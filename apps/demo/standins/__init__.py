"""Stand-ins of the providers, speaking their protocols on loopback: the X API v2 (x.py), the Graph
API (graph.py) and an SMTP server (mail.py). The tests use them as the providers' side; the demo
(`make run`, apps/demo/management/commands/run_desk.py) runs them so that an agent's reply on
X, Messenger or email is delivered somewhere and answered. Nothing else imports this package.
"""
