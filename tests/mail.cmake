# Mail extraction tests (model/mail.h and the pieces under it); messages are written by the tests.
sf_add_test(test_mail
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_mail.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_mail_limits.cpp
          ${CMAKE_CURRENT_LIST_DIR}/test_mail_units.cpp
  LIBS sf_mail
  LABELS mail unit)
