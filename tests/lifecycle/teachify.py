"""What the tests sending Teachify's documented examples share.

Every Teachify mutation page shows the same `enrollment { ... }` selection; the documents of
test_teachify_enroll_examples, test_teachify_expire_examples and tests/live/test_real_clients
put it in with an f-string, so each document is still the page's text, character for character.
"""

#: The payload's `enrollment` selection of Teachify's examples, indented as they print it.
ENROLLMENT = """\
    enrollment {
      id
      completionRate
      createdAt
      updatedAt
      endedAt
      course {
        id
        name
        slug
      }
      user {
        id
        name
        email
      }
    }"""
