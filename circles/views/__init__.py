"""Server-rendered circle pages, one module per subject: circles, posts and comments, tips, paid
questions, owner tools. Thin: forms check what was posted, selectors read, services write, messages
show refusals."""
